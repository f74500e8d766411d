import { expect } from 'chai';
import { inVersionRange, parseKernelVersion } from '../../src/kernel/version.js';
import { UserError } from '../../src/errors.js';

describe('kernel versions', () => {
  const cases: [string, string][] = [
    ['3.9.11', '3.9.11'], ['6.6', '6.6.0'], ['6.6.52', '6.6.52'], ['6.1.0-56-amd64', '6.1.0'],
    ['v6.12-rc3', '6.12.0'], ['5.15.0-1034-azure', '5.15.0'], ['4.19.249', '4.19.249'],
  ];
  for (const [input, want] of cases) {
    it(`reads ${input} as ${want}`, () => expect(parseKernelVersion(input).version).to.equal(want));
  }
  for (const bad of ['', 'latest', '6', 'linux-6.1', 'abc 1.2']) {
    it(`rejects ${JSON.stringify(bad)} with a UserError naming the option`, () => {
      expect(() => parseKernelVersion(bad, '--kernel-version')).to.throw(UserError, /not a kernel version/);
    });
  }
  it('compares half-open ranges: from inclusive, until exclusive', () => {
    const r = { from: '5.12', until: '5.18' };
    expect(inVersionRange(parseKernelVersion('5.11.22'), r)).to.equal(false);
    expect(inVersionRange(parseKernelVersion('5.12'), r)).to.equal(true);
    expect(inVersionRange(parseKernelVersion('5.17.15'), r)).to.equal(true);
    expect(inVersionRange(parseKernelVersion('5.18.0-1-amd64'), r)).to.equal(false);
  });
});
