import { declareStack } from "./program";

const outputs = declareStack();
// The language host awaits the export only after its own setup: a configuration error rejects it
// before then, and Node would report the rejection as unhandled and then as handled late. This
// handler only marks it handled; the host still receives the rejection and reports its message.
outputs.catch(() => undefined);

export = outputs;
