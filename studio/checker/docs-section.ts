/**
 * The "Checking flows" section of docs/FLOWS.md: what the checker reports, at which severity, and
 * the table of verdicts on the reference flows in ../shared/fixtures/real-flows (from
 * real-flows-expectations.json, so the document and the check cannot drift apart).
 */
import { DEFAULT_EXPECTATIONS, loadExpectations } from './check-fixtures';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function checkingFlowsSection(): string[] {
  const table = loadExpectations(DEFAULT_EXPECTATIONS);
  const rows = Object.entries(table).map(([file, entry]) => {
    const verdict = entry.verdict === 'rejected' ? `rejected: ${entry.reason}` : 'accepted';
    return `| \`${file}\` | ${cell(verdict)} | ${cell(entry.note ?? '')} |`;
  });
  return [
    '## Checking flows',
    '',
    '`npm run flows:check -- [--strict] [--functions-dir DIR] [files...]` checks each file (default:',
    'every `flows/*.json`) offline and prints one line per fault naming the file, state and property.',
    "It knows every widget of Studio's library (`studio/widget-catalog.ts`, each rule with its",
    'source): the v2 widgets such as `connect-virtual-agent-v2` and `make-outgoing-call-v2`, Content',
    'Template messages (`content_sid` instead of `body`), the Conversations trigger',
    '(`incomingConversationMessage`) and the subflow trigger (`incomingParent`).',
    '',
    'Errors are only what Studio refuses or what surely mis-runs: a `next` naming a widget the flow',
    'does not have, names that are not unique (both refused by the Flows API, error 81022), a',
    '`widgets.NAME` in Liquid naming a widget the flow does not have, Liquid that does not parse, a',
    'required field missing or empty (a template committed with an empty field is broken as',
    'committed), a property of the wrong JSON type or out of range (strings where Studio wants',
    "strings, such as TwiML Redirect and Send to Flex timeouts). For this service's own flows it also",
    'refuses URLs on `__SERVICE_DOMAIN__` naming a function `src/functions` lacks, and Run Function',
    'parameters (or query keys of a URL a Function serves) named like a key the Functions runtime',
    'fills in itself (`request`: the runtime builds `event` as `{request: {headers, cookies}, ...query,',
    '...body}`, so such a parameter never arrives).',
    '',
    'Warnings are what Studio allows: a widget no transition leads to (Studio keeps it; it never',
    'runs), a loop that no counter bounds, a counter that lets one widget run 10 times in a row',
    "(Studio stops such an execution at run time). Where Studio's rule is not known the checker says",
    'so and warns: a widget type it does not know, an event a widget is not known to fire, a missing',
    '`flags`, `description` or `offset`, an `initial_state` naming a widget other than the Trigger.',
    '`--strict` fails on warnings too. Exit status: 0 clean, 1 faults, 2 usage.',
    '',
    '`npm run flows:diagram` rewrites this file from the flows; `npm run flows:diagram -- --check`',
    'only reports whether it is out of date.',
    '',
    '`npm run flows:check-fixtures -- [--fixtures DIR] [--expectations FILE] [--verbose]` runs the',
    'checker on reference flows written by others, kept beside the project rather than in it',
    '(default `../shared/fixtures`): every flow in `studio-flows/` must be accepted, with only the',
    'warnings it is known to draw; every flow in `real-flows/` must get the verdict the table below',
    'states (`studio/checker/real-flows-expectations.json`): accepted means no errors, rejected means',
    'exactly the errors listed there. A file the table does not list, or a listed file that is',
    'missing, fails. It prints one line per file and ends with `N passed, M failed`. `npm test` does',
    'not need those folders; CI (`.ci/run`) runs this check after jest when they exist and adds its',
    "counts to jest's.",
    '',
    '| `real-flows/` file | verdict | note |',
    '|---|---|---|',
    ...rows,
  ];
}
