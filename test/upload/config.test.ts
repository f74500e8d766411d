/** Upload configuration: generator side (schema, resolve, rendered files) and runtime parsing. */
import { expect } from 'chai';
import { resolveConfig } from '../../src/config/resolve.js';
import { parseConfigText } from '../../src/config/load.js';
import { planLayer } from '../../src/layer/plan.js';
import { UserError } from '../../src/errors.js';
import { parseListing, LISTING_SEPARATOR } from '../../src/pull/plan.js';
import { piece, SHELLS } from '../runtime/shell.js';

const KH = '[collector.example.net]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO2e';
const resolve = (text: string) => resolveConfig({ config: parseConfigText(`machine: as5712\n${text}`, 'kdump.yml') });

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('no UserError thrown');
}

describe('upload configuration', () => {
  it('defaults to no upload; the layer then adds no client to RDEPENDS', () => {
    const { config } = resolveConfig({ machine: 'as5712' });
    expect(config.upload).to.include({ target: 'none', client: 'openssh', keep_local: true, http_verify: 'get' });
    const files = planLayer(config, { machine: 'as5712' });
    const bb = files.find((f) => f.path.endsWith('ops-kdump_1.0.bb'))!.content;
    expect(bb).to.match(/RDEPENDS:\$\{PN\} = "kexec-tools kexec makedumpfile"\n/);
    expect(files.find((f) => f.path.endsWith('files/kdump.conf'))!.content).to.match(/^upload_target none$/m);
    expect(files.some((f) => f.path.endsWith('files/known_hosts'))).to.equal(false);
  });

  it('an ssh target renders the keys, ships the pinned host key and RDEPENDS on the chosen client', () => {
    for (const [client, pkg] of [['openssh', 'openssh-ssh'], ['dropbear', 'dropbear util-linux-setsid']]) {
      const { config } = resolve(`upload:\n  target: ssh://kdump@collector.example.net:2222/srv/kdump\n  client: ${client}\n  known_hosts: ["${KH}"]\n  keep_local: false\n`);
      const files = planLayer(config, { machine: 'as5712' });
      const conf = files.find((f) => f.path.endsWith('files/kdump.conf'))!.content;
      expect(conf).to.include('upload_target ssh://kdump@collector.example.net:2222/srv/kdump\n');
      expect(conf).to.include(`upload_client ${client}\n`).and.include('upload_known_hosts /etc/ops-kdump/known_hosts\n').and.include('upload_keep_local no\n');
      expect(files.find((f) => f.path.endsWith('files/known_hosts'))!.content).to.equal(`${KH}\n`);
      const bb = files.find((f) => f.path.endsWith('ops-kdump_1.0.bb'))!.content;
      expect(bb).to.include(`RDEPENDS:\${PN} = "kexec-tools kexec makedumpfile ${pkg}"`);
      expect(bb).to.include('install -m 0644 ${S}/known_hosts ${D}/etc/ops-kdump/known_hosts');
      expect(files.find((f) => f.path === 'SECURITY.md')!.content).to.include('/etc/ops-kdump/upload_key').and.include('0600');
    }
  });

  it('dropbear brings setsid (dbclient runs without a terminal): util-linux-setsid, and util-linux itself on fido, whose busybox has no setsid', () => {
    const target = `upload:\n  target: ssh://kdump@collector.example.net:2222/srv/kdump\n  known_hosts: ["${KH}"]\n`;
    const rdepends = (yocto: string, client: string) => {
      const { config } = resolve(`yocto: ${yocto}\n${target}  client: ${client}\n`);
      const bb = planLayer(config, { machine: 'as5712' }).find((f) => f.path.endsWith('ops-kdump_1.0.bb'))!.content;
      return /^RDEPENDS[:_]\$\{PN\} = "([^"]*)"$/m.exec(bb)![1].split(' ');
    };
    for (const yocto of ['dunfell', 'kirkstone', 'scarthgap', 'styhead', 'walnascar']) {
      expect(rdepends(yocto, 'dropbear'), yocto).to.include.members(['dropbear', 'util-linux-setsid']).and.not.include('util-linux');
      expect(rdepends(yocto, 'openssh'), yocto).to.include('openssh-ssh').and.not.include('util-linux-setsid');
    }
    expect(rdepends('fido', 'dropbear')).to.include.members(['dropbear', 'util-linux']).and.not.include('util-linux-setsid');
  });

  it('an https target uses curl; plain http warns that dumps travel unencrypted', () => {
    const { config, warnings } = resolve('upload:\n  target: https://collector.example.net/kdump\n');
    expect(config.upload.client).to.equal('curl');
    expect(warnings).to.deep.equal([]);
    expect(resolve('upload:\n  target: http://collector.example.net/kdump\n').warnings.join('\n')).to.include('unencrypted');
  });

  it('an http target with {name}: a query string (a token) is allowed, and SECURITY.md shows the URL without it; without {name} a query string is refused with a hint', () => {
    const { config } = resolve('upload:\n  target: https://collector.example.net/kdump/{name}?sv=2024&sig=s3cr3t\n');
    const files = planLayer(config, { machine: 'as5712' });
    expect(files.find((f) => f.path.endsWith('files/kdump.conf'))!.content).to.include('upload_target https://collector.example.net/kdump/{name}?sv=2024&sig=s3cr3t\n');
    const security = files.find((f) => f.path === 'SECURITY.md')!.content;
    expect(security).to.include('`https://collector.example.net/kdump/{name}?...`').and.not.include('s3cr3t');
    let e = userError(() => resolve('upload:\n  target: https://collector.example.net/kdump/key.tar.gz?X-Amz-Signature=abc\n'));
    expect(e.message).to.include('must say where the archive name goes');
    expect(e.hint).to.include('presigned');
    expect(e.where).to.equal('kdump.yml:3: upload.target');
    e = userError(() => resolve('upload:\n  target: https://c{name}.example.net/kdump\n'));
    expect(e.message).to.include('not in its host');
    e = userError(() => resolve('upload:\n  target: https://c/{name}/{name}\n'));
    expect(e.format()).to.include('upload.target');
  });

  it('refuses, saying where: a client that cannot speak the scheme, an ssh target without a pinned host key, a bad port', () => {
    let e = userError(() => resolve('upload:\n  target: https://c/kdump\n  client: dropbear\n'));
    expect(e.where).to.equal('kdump.yml:4: upload.client');
    e = userError(() => resolve('upload:\n  target: ssh://kdump@c/srv\n'));
    expect(e.message).to.include('needs the collector\'s host key');
    e = userError(() => resolve(`upload:\n  target: ssh://kdump@c:99999/srv\n  known_hosts: ["${KH}"]\n`));
    expect(e.message).to.include('99999');
    e = userError(() => resolve('upload:\n  target: ftp://c/srv\n'));
    expect(e.format()).to.include('upload.target');
  });

  it('pull reads `status -m` and `list -m`: complete archives with their recorded SHA-256; the rest skipped', () => {
    const sha = 'a'.repeat(64);
    const l = parseListing(`loaded=1\npath=/var/core/kernel-core\n${LISTING_SEPARATOR}\n` +
      `kdump-000001-20260101-000000-aaaaaaaa.tar.gz\tcomplete\t123\t2026-01-01T00:00:00Z\tcomplete\t\tuploaded\t${sha}\n` +
      'kdump-000002-20260102-000000-bbbbbbbb\tpending\t9\t2026-01-02T00:00:00Z\tcomplete\t\t-\t\n' +
      'kdump-000003-20260103-000000-cccccccc.tar\tcomplete\t5\t2026-01-03T00:00:00Z\tcomplete-with-warnings\trelease_info\t-\t\n');
    expect(l.path).to.equal('/var/core/kernel-core');
    expect(l.archives).to.deep.equal([
      { name: 'kdump-000001-20260101-000000-aaaaaaaa.tar.gz', bytes: 123, sha256: sha },
      { name: 'kdump-000003-20260103-000000-cccccccc.tar', bytes: 5, sha256: '' },
    ]);
    expect(l.skipped).to.deep.equal([{ name: 'kdump-000002-20260102-000000-bbbbbbbb', why: 'pending' }]);
    expect(() => parseListing('bash: ops-kdump: command not found\n')).to.throw(/did not answer like ops-kdump/);
    expect(() => parseListing(`path=/x y\n${LISTING_SEPARATOR}\n`)).to.throw(/characters/);
  });
});

for (const shell of SHELLS) {
  describe(`runtime upload configuration under ${shell.name}`, () => {
    it('parses ssh and http targets; refuses malformed ones with file:line', () => {
      const ok = piece(shell.argv, 'upload_parse_target ssh://kdump@10.0.0.5:2222/srv/kdump/ && echo "$UP_KIND $UP_USER $UP_HOST $UP_PORT $UP_DIR"');
      expect(ok.stdout.trim()).to.equal('ssh kdump 10.0.0.5 2222 /srv/kdump');
      const dflt = piece(shell.argv, 'upload_parse_target ssh://k@c/d && echo "$UP_PORT"');
      expect(dflt.stdout.trim()).to.equal('22');
      const h = piece(shell.argv, "UP_KIND=http; upload_parse_target 'https://u:p@c.example/k' && upload_display");
      expect(h.stdout.trim()).to.equal('https://c.example/k');
      const named = piece(shell.argv, "upload_parse_target 'https://u:p@c.example/k/{name}?sig=s3cr3t' && upload_http_url sw1-abc-kdump-1.tar.gz && upload_display sw1-abc-kdump-1.tar.gz && upload_display");
      expect(named.stdout.trim().split('\n')).to.deep.equal([
        'https://u:p@c.example/k/sw1-abc-kdump-1.tar.gz?sig=s3cr3t',
        'https://c.example/k/sw1-abc-kdump-1.tar.gz?...',
        'https://c.example/k/{name}?...',
      ]);
      const query = piece(shell.argv, "upload_parse_target 'https://c.example/up?name={name}&t=1' && upload_http_url x.tar.gz");
      expect(query.stdout.trim()).to.equal('https://c.example/up?name=x.tar.gz&t=1');
      for (const bad of ['ssh://c/d', 'ssh://k@c', "ssh://k@c/d'x", 'ssh://k@c:0/d', 'ssh://k@c/a/../b', 'ftp://c/d', 'https://c/k?sig=1', 'https:///k', 'https://{name}.c/k', 'https://c/{name}/{name}', 'https://c/{nom}']) {
        const r = piece(shell.argv, `upload_parse_target "${bad}" && echo accepted || echo "$UP_REASON"`);
        expect(r.stdout.trim(), bad).to.not.equal('accepted');
        if (bad === 'https://c/k?sig=1') expect(r.stdout).to.include('put {name} where');
      }
    });

    it('kdump.conf upload keys: wrong values and a client that cannot speak the scheme are errors', () => {
      const r = piece(shell.argv, `KDUMP_CONF=/dev/stdin; parse_config <<'EOF'
upload_target ssh://k@c/d
upload_client curl
upload_keep_local maybe
upload_idle_timeout 0
upload_key relative
upload_bogus 1
EOF
echo "rc=$?"`);
      expect(r.stdout.trim()).to.equal('rc=1');
      expect(r.stderr).to.include(':1: upload_client curl cannot upload to a ssh target');
      expect(r.stderr).to.include(':3: upload_keep_local must be yes or no');
      expect(r.stderr).to.include(':4: upload_idle_timeout must be a whole number of seconds >= 1');
      expect(r.stderr).to.include(':5: upload_key must be an absolute path');
      expect(r.stderr).to.include(":6: unknown key 'upload_bogus'");
    });
  });
}
