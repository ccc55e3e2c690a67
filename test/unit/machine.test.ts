import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { onPath } from "../../readers/machine";

describe("onPath", () => {
  const saved = process.env.PATH;
  afterEach(() => {
    process.env.PATH = saved;
  });

  it("finds an executable in a PATH folder, not a file that cannot run nor one elsewhere", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "on-path-"));
    fs.writeFileSync(path.join(dir, "minikube"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "podman"), "not executable\n", { mode: 0o644 });
    process.env.PATH = [path.join(dir, "missing"), dir].join(path.delimiter);
    expect(onPath("minikube")).toBe(true);
    expect(onPath("podman")).toBe(false);
    expect(onPath("docker")).toBe(false);
  });
});
