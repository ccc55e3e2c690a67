/**
 * A readable message from whatever an exec or API call rejected with: client-node's exec rejects with
 * the WebSocket `ErrorEvent` (not an Error) when the upgrade fails, API calls with an `HttpError` whose
 * body is a Kubernetes Status.
 */
export function describeFailure(error: unknown): string {
  if (error && typeof error === "object") {
    const candidate = error as { message?: unknown; body?: unknown; statusCode?: unknown; error?: unknown };
    const body = candidate.body as { message?: unknown } | string | undefined;
    if (body && typeof body === "object" && typeof body.message === "string") {
      return `${typeof candidate.statusCode === "number" ? `HTTP ${candidate.statusCode}: ` : ""}${body.message}`;
    }
    if (typeof body === "string" && body.trim()) return body.trim();
    if (typeof candidate.message === "string" && candidate.message) return pulumiErrors(candidate.message);
    if (candidate.error instanceof Error) return candidate.error.message;
  }
  return String(error);
}

/** The error the engine adds after a program's own, which says nothing of its own. */
const GENERIC_ERROR = /^One or more errors occurred\. Check logs for more details$/;

/**
 * The errors of a failed Pulumi CLI run, each once and whole: an `error:` line with the lines indented
 * under it (a program's configuration error lists its problems there). The automation API's
 * CommandError message repeats the whole command output (stdout, stderr, and the error again), and the
 * engine's generic closing error is left out when there is another. Other messages pass as they are.
 */
export function pulumiErrors(message: string): string {
  if (!/\n\s*stderr: /.test(message)) return message;
  const lines = message.split("\n");
  const indentOf = (line: string) => line.length - line.trimStart().length;
  const errors: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)error: (.+)$/.exec(lines[i]);
    if (!match) continue;
    const error = [match[2].trim()];
    while (i + 1 < lines.length && lines[i + 1].trim() !== "" && indentOf(lines[i + 1]) > match[1].length) {
      error.push(`  ${lines[++i].trim()}`);
    }
    errors.push(error.join("\n"));
  }
  const unique = [...new Set(errors)];
  const own = unique.filter((error) => !GENERIC_ERROR.test(error));
  const shown = own.length > 0 ? own : unique;
  if (shown.length === 0) return message;
  return shown.join(shown.some((error) => error.includes("\n")) ? "\n" : "; ");
}
