import fs from 'node:fs';
import type { Command } from './types.js';
import { EXIT_CHECK_FAILED, EXIT_OK, UserError, fileExists } from '../errors.js';

export const ANALYZE_FORMATS = ['text', 'markdown', 'json', 'html'] as const;
type AnalyzeFormat = (typeof ANALYZE_FORMATS)[number];

export const analyzeCommand: Command = {
  command: 'analyze <dump>',
  describe: 'Turn a crash dump (ops-kdump archive, its directory, a vmcore, or a directory of them) into a crash report',
  builder: (y) =>
    y
      .positional('dump', { type: 'string', describe: 'kdump-*.tar.gz archive, an unpacked dump directory, a vmcore, or a directory of dumps' })
      .option('vmlinux', { type: 'string', describe: 'the crashed kernel\'s vmlinux with debug info' })
      .option('build-dir', { type: 'string', describe: 'a BitBake build directory (or its TMPDIR) to find the vmlinux in' })
      .option('info', { type: 'boolean', default: false, describe: 'only say what the dump is (format, kernel, build id, crash time, metadata); needs neither vmlinux nor crash' })
      .option('format', { type: 'string', choices: [...ANALYZE_FORMATS], default: 'text', describe: 'report format' })
      .option('output', { alias: 'o', type: 'string', describe: 'write the report to this file (atomically) instead of stdout' })
      .option('to-elf', { type: 'string', describe: 'write the dump as an ELF vmcore FILE for gdb, with makedumpfile (from a flattened dump; makedumpfile cannot convert kdump-compressed ones)' })
      .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing --output or --to-elf file' })
      .example('$0 analyze kdump-20260321-101502-3f2a9c01.tar.gz --build-dir ~/yocto/build', 'report on one archive')
      .example('$0 analyze dumps/ --build-dir ~/yocto/build', 'many archives: one table grouped by crash signature')
      .example('$0 analyze vmcore --vmlinux vmlinux-6.1.0 --format json', 'a bare vmcore, as JSON')
      .example('$0 analyze kdump-….tar.gz --info', 'what is this dump? (no vmlinux, no crash)'),
  async run(args) {
    const source = String(args.dump);
    const format = args.format as AnalyzeFormat;
    const output = args.output as string | undefined;
    const force = Boolean(args.force);
    const opts = { vmlinux: args.vmlinux as string | undefined, buildDir: args.buildDir as string | undefined };
    if (output && fs.existsSync(output) && !force) throw fileExists(output, '--output');
    // Loaded here so other commands do not pay for analyze's modules.
    const a = await import('../analyze/analyze.js');
    const emit = async (text: string) => {
      // Owner only: a report carries the crashed kernel's log (addresses, process names, secrets it printed).
      if (output) {
        const w = await import('../layer/write-atomic.js');
        try {
          w.writeAtomic(output, text, 0o600, { noClobber: !force });
        } catch (err) {
          // Made while the dump was analyzed: kept, as at the start.
          if (w.isExists(err)) throw fileExists(output, '--output');
          throw err;
        }
      }
      else process.stdout.write(text);
    };
    // Node's own terminal detection, as validate does it (NO_COLOR, FORCE_COLOR, TERM=dumb), on a terminal only.
    const color = !output && format === 'text' && process.stdout.isTTY === true && process.stdout.hasColors() && !process.env.NO_COLOR;

    if (args.toElf) {
      const { convertToElf } = await import('../analyze/to-elf.js');
      const r = await convertToElf(source, String(args.toElf), force);
      process.stdout.write(`${r}\n`);
      return EXIT_OK;
    }

    if (fs.existsSync(source) && fs.statSync(source).isDirectory() && !a.isDumpDirectory(source)) {
      if (args.info) throw new UserError('--info reads one dump', { hint: 'name one archive, dump directory or vmcore' });
      const summary = await a.analyzeDirectory(source, opts, (m) => process.stderr.write(`kdump-layer: ${m}\n`));
      const text =
        format === 'json' ? (await import('../analyze/report/json.js')).renderJson(summary)
          : format === 'markdown' ? (await import('../analyze/report/markdown.js')).renderSummaryMarkdown(summary)
            : format === 'html' ? (await import('../analyze/report/html.js')).renderSummaryHtml(summary)
              : (await import('../analyze/report/text.js')).renderSummaryText(summary);
      await emit(text);
      return summary.unanalyzed.length ? EXIT_CHECK_FAILED : EXIT_OK;
    }

    const report = args.info
      ? await a.withInput(source, async (input) => a.infoReport(input, a.identify(input)))
      : await a.analyzeDump(source, opts);
    for (const w of report.warnings) if (output || format !== 'text') process.stderr.write(`kdump-layer: warning: ${w}\n`);
    const text =
      format === 'json' ? (await import('../analyze/report/json.js')).renderJson(report)
        : format === 'markdown' ? (await import('../analyze/report/markdown.js')).renderMarkdown(report)
          : format === 'html' ? (await import('../analyze/report/html.js')).renderHtml(report)
            : (await import('../analyze/report/text.js')).renderText(report, { color });
    await emit(text);
    return EXIT_OK;
  },
};
