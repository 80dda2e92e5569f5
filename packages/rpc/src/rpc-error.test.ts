import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { RpcErrorCodes } from './errors.js';
import { countsAgainstBreaker, isRpcError, isTransientCode, mayHaveActed, networkCauseOf, RpcError, toRpcError } from './rpc-error.js';

const info = { target: 't', service: 'pkg.v1.S', method: 'M', idempotent: false, attempts: 1 };

describe('RpcError classification', () => {
  it('treats the RPC counterparts of 408/429/5xx as transient, and every other code as an answer', () => {
    const transient = [Code.Unknown, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Internal, Code.Unavailable, Code.DataLoss];
    for (const code of Object.values(Code).filter((value): value is Code => typeof value === 'number')) {
      expect(isTransientCode(code), Code[code]).toBe(transient.includes(code));
    }
  });

  it('counts unhealthy-server failures against the breaker, not answers nor ResourceExhausted', () => {
    const status = (code: Code) => toRpcError(new ConnectError('x', code), info);
    expect(countsAgainstBreaker(status(Code.Unavailable))).toBe(true);
    expect(countsAgainstBreaker(status(Code.Internal))).toBe(true);
    expect(countsAgainstBreaker(status(Code.ResourceExhausted))).toBe(false);
    expect(countsAgainstBreaker(status(Code.NotFound))).toBe(false);
    expect(countsAgainstBreaker(new Error('not an RpcError'))).toBe(false);
    expect(countsAgainstBreaker(new RpcError(RpcErrorCodes.RPC_CIRCUIT_OPEN, 'open', { ...info, attempts: 0, transient: true }))).toBe(false);
  });

  it('finds a network cause anywhere in the cause chain and maps it to RPC_NETWORK; Canceled too', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const wrapped = new ConnectError('unavailable', Code.Unavailable, undefined, undefined, new Error('outer', { cause: refused }));
    expect(networkCauseOf(wrapped)).toBe('ECONNREFUSED');
    const error = toRpcError(wrapped, info);
    expect(error).toMatchObject({ code: RpcErrorCodes.RPC_NETWORK, transient: true, rpcCode: Code.Unavailable });
    expect(mayHaveActed(error)).toBe(false);
    const reset = toRpcError(new ConnectError('http/2 stream closed with error code CANCEL (0x8)', Code.Canceled), info);
    expect(reset).toMatchObject({ code: RpcErrorCodes.RPC_NETWORK, transient: true });
    expect(mayHaveActed(reset)).toBe(true);
    expect(toRpcError(new ConnectError('late', Code.DeadlineExceeded), info).code).toBe(RpcErrorCodes.RPC_TIMEOUT);
  });

  it('says a call may have acted unless it was never sent, refused, or answered Unavailable / ResourceExhausted', () => {
    expect(mayHaveActed(toRpcError(new ConnectError('x', Code.Unavailable), info))).toBe(false);
    expect(mayHaveActed(toRpcError(new ConnectError('x', Code.ResourceExhausted), info))).toBe(false);
    expect(mayHaveActed(toRpcError(new ConnectError('x', Code.Internal), info))).toBe(true);
    expect(mayHaveActed(toRpcError(new ConnectError('x', Code.Internal), { ...info, attempts: 0 }))).toBe(false);
  });

  it('is recognised across package copies by its brand, and keeps the ConnectError as cause', () => {
    const cause = new ConnectError('gone', Code.NotFound);
    const error = toRpcError(cause, info);
    expect(isRpcError(error)).toBe(true);
    expect(isRpcError(error, RpcErrorCodes.RPC_STATUS)).toBe(true);
    expect(isRpcError(error, RpcErrorCodes.RPC_TIMEOUT)).toBe(false);
    expect(isRpcError(Object.assign(new Error('look-alike'), { code: RpcErrorCodes.RPC_STATUS }))).toBe(false);
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ target: 't', service: 'pkg.v1.S', method: 'M', rpcCode: 'NotFound', breakerOpen: false, transient: false, attempts: 1 });
  });
});
