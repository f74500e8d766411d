#
# Checks a kernel build's final .config against the kdump requirements for the target arch
# and the kernel's version, with the rules `kdump-layer validate` uses (rendered into
# kdump-rules.json from the tool's rule data). Used by the kernel's do_kdump_check task;
# also runs alone, for CI or by hand:
#     python3 kdump_config_check.py --arch x86_64 [--kernel-version 6.6.52] [--json] .config
# Exit status: 0 no error, 1 at least one error, 2 bad input.
# Python 2.7 (BitBake 1.26) and Python 3.
from __future__ import print_function

import io
import json
import os
import re
import sys

HEADER = re.compile(r'^# Linux/(\S+) (\S+) Kernel Configuration\s*$')
SET = re.compile(r'^CONFIG_([A-Za-z0-9_]+)=(.*)$')
UNSET = re.compile(r'^# CONFIG_([A-Za-z0-9_]+) is not set')


def parse_value(raw):
    raw = raw.strip()
    if raw in ('y', 'm', 'n'):
        return {'kind': raw}
    if raw.startswith('"'):
        return {'kind': 'string', 'value': raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:]}
    if re.match(r'^0[xX][0-9a-fA-F]+$', raw):
        return {'kind': 'hex', 'value': raw}
    if re.match(r'^-?\d+$', raw):
        return {'kind': 'int', 'value': raw}
    return {'kind': 'string', 'value': raw}


def parse_config(text):
    """symbol -> (value, line number); the header's (arch, version) or None. A later line wins."""
    values, header = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.rstrip('\r')
        if n <= 5 and header is None:
            h = HEADER.match(line)
            if h:
                header = (h.group(1), h.group(2))
                continue
        m = SET.match(line)
        if m:
            values[m.group(1)] = (parse_value(m.group(2)), n)
            continue
        m = UNSET.match(line)
        if m:
            values[m.group(1)] = ({'kind': 'n'}, n)
    return values, header


def parse_version(text):
    """'6.6.52', '6.1.0-56-amd64', 'v5.15' -> (major, minor, patch); None when it is not one."""
    m = re.match(r'^v?(\d+)\.(\d+)(?:\.(\d+))?', (text or '').strip())
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def makefile_version(text):
    """The version of a kernel tree from its top Makefile (VERSION, PATCHLEVEL, SUBLEVEL)."""
    got = {}
    for line in text.splitlines():
        m = re.match(r'^(VERSION|PATCHLEVEL|SUBLEVEL)\s*=\s*(\d*)\s*$', line)
        if m and m.group(1) not in got:
            got[m.group(1)] = m.group(2) or '0'
    if 'VERSION' not in got or 'PATCHLEVEL' not in got:
        return None
    return (int(got['VERSION']), int(got['PATCHLEVEL']), int(got.get('SUBLEVEL', '0')))


def in_range(version, scope):
    lo, hi = parse_version(scope.get('from')), parse_version(scope.get('until'))
    if lo and version < lo:
        return False
    if hi and version >= hi:
        return False
    return True


def applies(rule, arch, version):
    return any(arch in s['arches'] and in_range(version, s) for s in rule['scopes'])


def as_int(v):
    raw = v['value']
    return int(raw, 16) if v['kind'] == 'hex' or raw.lower().startswith('0x') else int(raw, 16)


def line_of(symbol, v):
    return '# CONFIG_%s is not set' % symbol if v['kind'] == 'n' else 'CONFIG_%s=%s' % (
        symbol, '"%s"' % v['value'] if v['kind'] == 'string' else v.get('value', v['kind']))


def equal(a, b):
    if a['kind'] != b['kind']:
        return False
    if a['kind'] == 'hex':
        return int(a['value'], 16) == int(b['value'], 16)
    return a.get('value') == b.get('value')


def check(rules, values, arch, version, config_name='.config'):
    """The kdump findings for a final .config: a list of dicts (check, severity, symbol, ...)."""
    align = 0x200000
    pa = values.get('PHYSICAL_ALIGN')
    if pa and pa[0]['kind'] in ('hex', 'int'):
        try:
            if as_int(pa[0]) > 0:
                align = as_int(pa[0])
        except ValueError:
            pass
    findings = []
    for rule in rules:
        if not applies(rule, arch, version):
            continue
        alts = []
        for req in rule['oneOf']:
            got = values.get(req['symbol'])
            alts.append((req, got[0] if got else {'kind': 'n'}, got[1] if got else None))

        def holds(req, value):
            if rule.get('check') == 'aligned':
                if value['kind'] not in ('hex', 'int'):
                    return False
                try:
                    return as_int(value) % align == 0
                except ValueError:
                    return False
            if req['value']['kind'] == 'n':
                return value['kind'] == 'n'
            return equal(value, req['value'])

        if any(holds(req, value) for req, value, _ in alts):
            continue
        primary = next((a for a in alts if a[2] is not None), alts[0])
        req, value, line = primary
        expected = ' or '.join(r['line'] for r in rule['oneOf'])
        if rule.get('check') == 'aligned':
            what = 'CONFIG_%s is not a multiple of PHYSICAL_ALIGN (0x%x)' % (req['symbol'], align)
        else:
            what = 'kdump needs %s' % expected
        findings.append({
            'check': rule['id'], 'severity': rule['severity'], 'symbol': req['symbol'],
            'line': line, 'expected': expected,
            'effective': '%s (%s)' % (line_of(req['symbol'], value),
                                      '%s:%d' % (config_name, line) if line else 'absent from the final config'),
            'message': '%s: %s' % (what, rule['why']), 'fix': rule['fix'], 'source': rule['source'],
        })
    return findings


def report(findings, arch, version, config_name, version_from):
    errors = sum(1 for f in findings if f['severity'] == 'error')
    warnings = sum(1 for f in findings if f['severity'] == 'warning')
    out = ['kdump config check of %s: %s, Linux %d.%d.%d (version from %s): %s' % (
        config_name, arch, version[0], version[1], version[2], version_from,
        'PASS' if not findings else '%d error(s), %d warning(s)' % (errors, warnings))]
    for f in findings:
        out.append('%-7s %s [%s] %s' % (f['severity'], 'CONFIG_' + f['symbol'], f['check'], f['message']))
        out.append('        in effect: %s' % f['effective'])
        out.append('        fix:       %s' % f['fix'])
    return '\n'.join(out) + '\n'


def load_rules(path):
    with io.open(path, encoding='utf-8') as fh:
        return json.load(fh)['rules']


def run(config_path, arch, rules_path, kernel_version=None, makefile=None):
    """Reads the inputs and checks: (findings, version, where the version came from)."""
    with io.open(config_path, encoding='utf-8', errors='replace') as fh:
        values, header = parse_config(fh.read())
    version, version_from = None, None
    if kernel_version:
        version, version_from = parse_version(kernel_version), 'given'
    if version is None and makefile and os.path.exists(makefile):
        with io.open(makefile, encoding='utf-8', errors='replace') as fh:
            version, version_from = makefile_version(fh.read()), makefile
    if version is None and header:
        version, version_from = parse_version(header[1]), '%s header' % config_path
    if version is None:
        raise ValueError('%s: no kernel version (no Makefile, no "# Linux/<arch> <version> Kernel Configuration" header)' % config_path)
    return check(load_rules(rules_path), values, arch, version, config_path), version, version_from


def main(argv):
    import argparse
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description='Check a kernel .config for what kdump needs.')
    p.add_argument('config')
    p.add_argument('--arch', required=True)
    p.add_argument('--kernel-version')
    p.add_argument('--makefile', help="the kernel tree's top Makefile, to read the version from")
    p.add_argument('--rules', default=os.path.join(here, 'kdump-rules.json'))
    p.add_argument('--json', action='store_true')
    a = p.parse_args(argv)
    try:
        findings, version, version_from = run(a.config, a.arch, a.rules, a.kernel_version, a.makefile)
    except (IOError, OSError, ValueError) as e:
        print('kdump_config_check: %s' % e, file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps({'version': '%d.%d.%d' % version, 'findings': findings}, indent=1, sort_keys=True))
    else:
        sys.stdout.write(report(findings, a.arch, version, a.config, version_from))
    return 1 if any(f['severity'] == 'error' for f in findings) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
