/**
 * npm run flows:check -- [--strict] [--functions-dir DIR] [files...]
 *
 * Checks each Studio Flow file (default: every flows/*.json) and prints one line per fault.
 * Exit 0 when no file has an error (or, with --strict, a warning); 1 otherwise; 2 on bad usage.
 */
import path from 'node:path';
import { checkFlowFile, formatFault, listServiceFunctions, projectServiceFunctions, type Fault } from './index';
import { projectFlowFiles } from '../../dev/paths';

interface Options {
  strict: boolean;
  functionsDir: string | null;
  files: string[];
}

function parseArgs(argv: string[]): Options | string {
  const options: Options = { strict: false, functionsDir: null, files: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--strict') options.strict = true;
    else if (arg === '--functions-dir') {
      const dir = argv[i + 1];
      if (!dir) return '--functions-dir needs a folder';
      options.functionsDir = dir;
      i += 1;
    } else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else options.files.push(arg);
  }
  return options;
}

function main(argv: string[]): number {
  const options = parseArgs(argv);
  if (typeof options === 'string') {
    process.stderr.write(`flows:check: ${options}\nusage: flows:check [--strict] [--functions-dir DIR] [files...]\n`);
    return 2;
  }

  const functions = options.functionsDir ? listServiceFunctions(options.functionsDir) : projectServiceFunctions();
  if (functions === null) {
    process.stderr.write('flows:check: no functions found, so the functions flows call are not checked\n');
  }

  const files =
    options.files.length > 0 ? options.files : projectFlowFiles().map((file) => path.relative(process.cwd(), file));
  if (files.length === 0) {
    process.stderr.write('flows:check: no flow files to check\n');
    return 1;
  }

  const faults: Fault[] = files.flatMap((file) => checkFlowFile(file, { serviceFunctions: functions }));
  for (const fault of faults) process.stdout.write(`${formatFault(fault)}\n`);

  const errors = faults.filter((fault) => fault.severity === 'error').length;
  const warnings = faults.length - errors;
  process.stderr.write(`flows:check: ${files.length} file(s), ${errors} error(s), ${warnings} warning(s)\n`);
  return errors > 0 || (options.strict && warnings > 0) ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
