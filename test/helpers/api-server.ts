import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

/** A stand-in API server: answers every request with `respond`, or never when it is undefined. */
export async function apiServer(
  respond?: (response: http.ServerResponse, request: http.IncomingMessage) => void,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ""}`);
    respond?.(response, request);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json = (status: number, body: unknown) => (response: http.ServerResponse) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
};
/** A kubeconfig whose current context points at `current`, with a second context `lab` at `lab`. */
export function kubeconfigFile(current: string, lab = current): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-locality-kubeconfig-"));
  const file = path.join(dir, "kubeconfig");
  fs.writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: current, cluster: {server: '${current}'}}, {name: lab, cluster: {server: '${lab}'}}]`,
      "users: [{name: current, user: {token: current-token}}, {name: lab, user: {token: lab-token}}]",
      "contexts: [{name: current, context: {cluster: current, user: current}}, {name: lab, context: {cluster: lab, user: lab}}]",
      "current-context: current",
    ].join("\n"),
  );
  return file;
}

/** An address on this machine where nothing listens. */
export async function refusedUrl(): Promise<string> {
  const server = await apiServer();
  await server.close();
  return server.url;
}
