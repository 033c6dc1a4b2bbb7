import { test } from "uvu";
import * as assert from "uvu/assert";
import { CiloError } from "../../src/core/errors.ts";
import { fsFault } from "../../src/core/fs/fs-fault.ts";

function errno(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: something, ${syscall}`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  if (path) e.path = path;
  return e;
}

test("ENOSPC names the file, says the disk is full and what to do; exit 1", () => {
  const f = fsFault(errno("ENOSPC", "write"), "/home/u/.cilo/state.json")!;
  assert.instance(f, CiloError);
  assert.is(f.message, "Cannot write /home/u/.cilo/state.json: the disk holding it is full (ENOSPC)");
  assert.match(f.hint!, /Free space/);
  assert.is(f.exitCode, 1);
  assert.is(f.code, "E_FS_ENOSPC");
});

test("EDQUOT, EROFS and EACCES have words of their own", () => {
  assert.match(fsFault(errno("EDQUOT", "write"), "/x")!.message, /quota .* used up \(EDQUOT\)/);
  assert.match(fsFault(errno("EROFS", "open", "/ro/f"))!.message, /^Cannot write \/ro\/f: .*read-only \(EROFS\)/);
  assert.match(fsFault(errno("EACCES", "mkdir", "/root/x"))!.message, /^Cannot create \/root\/x: permission denied \(EACCES\)/);
  assert.match(fsFault(errno("EACCES", "open", "/etc/shadow"))!.hint!, /permissions/);
});

test("other errors and CiloErrors are left alone", () => {
  assert.is(fsFault(errno("ENOENT", "open", "/x")), undefined);
  assert.is(fsFault(new Error("boom")), undefined);
  assert.is(fsFault(undefined), undefined);
  const c = new CiloError("E_INTERNAL", "x");
  (c as any).errno = -28;
  assert.is(fsFault(c), undefined);
});

test.run();
