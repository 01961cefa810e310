import { loadConfig } from '../config/config';
import { migrate, roleOf } from '../db/migrate';

// `npm run migrate`: apply migrations as the owner (DATABASE_ADMIN_URL) and grant the role in DATABASE_URL.
const config = loadConfig();
if (!config.databaseAdminUrl || !config.databaseUrl) {
  process.stderr.write(
    'npm run migrate needs DATABASE_ADMIN_URL (owner) and DATABASE_URL (application role).\n',
  );
  process.exit(1);
}
const applied = await migrate(config.databaseAdminUrl, roleOf(config.databaseUrl));
process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date.\n');
