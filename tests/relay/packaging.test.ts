/** How the relay ships: its own manifest and lockfile, a non-root image with a health check. */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT as ROOT } from '../../dev/paths';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const json = (file: string) => JSON.parse(read(file)) as Record<string, any>;

test('the relay is a workspace; its runtime packages stay out of the root dependencies Twilio installs', () => {
  const root = json('package.json');
  const relay = json('relay/package.json');
  expect(root.workspaces).toEqual(['relay']);
  for (const name of Object.keys(relay.dependencies)) expect(root.dependencies).not.toHaveProperty(name);
  for (const version of Object.values<string>(relay.dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
});

test('relay/package-lock.json (what the image installs) matches relay/package.json', () => {
  const relay = json('relay/package.json');
  const lock = json('relay/package-lock.json');
  expect(lock.packages[''].dependencies).toEqual(relay.dependencies);
  expect(lock.packages[''].devDependencies).toEqual(relay.devDependencies);
  for (const [name, version] of Object.entries<string>(relay.dependencies))
    expect(lock.packages[`node_modules/${name}`].version).toBe(version);
});

test("the Dockerfile builds from the relay's own manifest, runs as a non-root user, listens on 0.0.0.0 and checks /health", () => {
  const dockerfile = read('relay/Dockerfile');
  expect(dockerfile).toMatch(/^COPY package\.json package-lock\.json \.\/$/m);
  expect(dockerfile).toMatch(/^RUN npm ci\b/m);
  expect(dockerfile).not.toMatch(/\.\.\//);
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/);
  expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
  expect(dockerfile).toMatch(/^CMD \["node", "dist\/relay\.js"\]$/m);
});
