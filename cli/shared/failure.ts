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

/**
 * The `error:` lines of a failed Pulumi CLI run, each once: the automation API's CommandError message
 * repeats the whole command output (stdout, stderr, and the error again). Other messages pass as they are.
 */
export function pulumiErrors(message: string): string {
  if (!/\n\s*stderr: /.test(message)) return message;
  const lines = [...message.matchAll(/^\s*error: (.+)$/gm)].map((match) => match[1].trim());
  return lines.length ? [...new Set(lines)].join("; ") : message;
}
