/**
 * `@mailroom/rpc/protos`: the tools of a proto module (a directory with `buf.yaml`, `buf.gen.yaml`
 * and `protos.lock.json`), on the installed `@bufbuild/buf` and `@bufbuild/protoc-gen-es`:
 * generate the TypeScript, lock the released protos, and check lint, breaking changes and
 * generated code in a test. `npm run protos -- <generate|lock|check> <dir>` runs them.
 */
export { checkProtos, type ProtosCheck } from './check-protos.js';
export { generateProtos, lockProtos } from './generate-protos.js';
export { PROTOS_LOCK_FILE, type ProtoModule, protoModule } from './proto-module.js';
export { type BufRun, runBuf } from './run-buf.js';
