import * as fs from "fs";
import * as path from "path";
import { ClusterConfig, configProblem } from "../stacks/config";

/** Whether a command of that name is on this machine's PATH, as a shell would find it. */
export type OnPath = (command: string) => boolean;

export const onPath: OnPath = (command) =>
  (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || ".", command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/**
 * What this machine lacks to run a minikube stack, as configuration problems: `minikube` itself and
 * the driver's command, without which the cluster's create (or its delete) fails once the run is
 * under way. Nothing for an existing cluster.
 */
export function minikubeToolProblems(cluster: ClusterConfig, found: OnPath = onPath): string[] {
  if (cluster.provider !== "minikube") return [];
  const problems: string[] = [];
  if (!found("minikube")) {
    problems.push(
      configProblem(
        "cluster.provider",
        cluster.provider,
        "a cluster this machine can run: no `minikube` on its PATH (install minikube, or set `cluster.provider` to `existing`)",
      ),
    );
  }
  if (!found(cluster.driver)) {
    problems.push(
      configProblem(
        "cluster.driver",
        cluster.driver,
        `a driver this machine has: no \`${cluster.driver}\` on its PATH (install it, or set the other driver)`,
      ),
    );
  }
  return problems;
}
