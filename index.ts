import { declareStack } from "./program";

export = declareStack();
