import { expect } from 'chai';
import { parseCrashkernel, smallestReservation, MIB, CrashkernelError } from '../../src/config/crashkernel.js';

describe('crashkernel= parser', () => {
  it("reads the seed's 128M@0M as a fixed size at offset 0", () => {
    expect(parseCrashkernel('128M@0M')).to.deep.equal({ kind: 'fixed', size: 128n * MIB, offset: 0n });
  });

  it('reads ranged reservations in order', () => {
    const c = parseCrashkernel('0M-2G:128M,2G-8G:256M,8G-:512M');
    expect(c.kind).to.equal('ranged');
    expect(smallestReservation(c)).to.equal(128n * MIB);
    if (c.kind === 'ranged') {
      expect(c.ranges.map((r) => r.size / MIB)).to.deep.equal([128n, 256n, 512n]);
      expect(c.ranges[2].end).to.equal(undefined);
    }
  });

  it('reads SIZE,high and a bare byte count', () => {
    expect(parseCrashkernel('256M,high')).to.deep.equal({ kind: 'fixed', size: 256n * MIB, zone: 'high' });
    expect(parseCrashkernel('134217728')).to.deep.equal({ kind: 'fixed', size: 128n * MIB });
  });

  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['128X', /not a size/],
    ['128M@', /offset '' is not a size/],
    ['128M@0M@0M', /more than one '@'/],
    ['2G-1G:128M', /ends before it starts/],
    ['0M-2G:128M,1G-4G:256M', /overlaps/],
    ['0M-:128M,2G-4G:256M', /follows an open-ended range/],
    ['0M-2G', /not a size/],
    ['0M-2G128M', /not a size|START-\[END\]:SIZE/],
    ['0M', /must not be 0/],
    ['128M quiet', /spaces/],
  ];
  for (const [spec, msg] of bad) {
    it(`rejects '${spec}' saying why`, () => {
      expect(() => parseCrashkernel(spec)).to.throw(CrashkernelError, msg);
    });
  }
});
