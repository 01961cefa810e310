import { loadConfig } from '../config/config';
import { restoreDatabase, RestoreRefused } from '../db/backup';

// `npm run restore -- FILE`: restores an encrypted backup into the EMPTY database at DATABASE_ADMIN_URL.
const file = process.argv[2];
const config = loadConfig();
if (!file || !config.databaseAdminUrl || !config.backupEncryptionKey) {
  process.stderr.write(
    'Usage: npm run restore -- FILE\nNeeds DATABASE_ADMIN_URL (an empty database) and BACKUP_ENCRYPTION_KEY.\n',
  );
  process.exit(2);
}
try {
  await restoreDatabase(config.databaseAdminUrl, file, config.backupEncryptionKey, config.pgTools);
  process.stdout.write(`Restored ${file}\n`);
} catch (error) {
  const refused = error instanceof RestoreRefused;
  process.stderr.write(`Restore ${refused ? 'refused' : 'failed'}: ${(error as Error).message}\n`);
  process.exit(refused ? 3 : 1);
}
