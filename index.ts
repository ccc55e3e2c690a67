import { declareStack } from "./components/lab";

export = declareStack();
