import * as pulumi from "@pulumi/pulumi";
import { DataplaneMode, isDataplaneMode } from "./contract";

/**
 * The dataplane mode this stack ran with before this run, read from its own last outputs
 * (undefined on a new stack). A switch back from ambient must order its steps differently from a
 * fresh install, and only the stack's history tells the two apart. It is read as a plain value,
 * before any resource is declared, because it decides which resources a run declares.
 */
export async function previousDataplaneMode(): Promise<DataplaneMode | undefined> {
  const self = new pulumi.StackReference("previous-run", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const value: unknown = (await self.getOutputDetails("dataplaneMode")).value;
  return isDataplaneMode(value) ? value : undefined;
}
