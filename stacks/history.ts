import * as pulumi from "@pulumi/pulumi";
import { DataplaneMode } from "./contract";

/**
 * The dataplane mode this stack ran with before this run, read from its own last outputs
 * (undefined on a new stack). A switch back from ambient must order its steps differently from a
 * fresh install, and only the stack's history tells the two apart.
 */
export function previousDataplaneMode(): pulumi.Output<DataplaneMode | undefined> {
  const self = new pulumi.StackReference("previous-run", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  return self.getOutput("dataplaneMode") as pulumi.Output<DataplaneMode | undefined>;
}
