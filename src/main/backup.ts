import { loadConfig } from '../config/config';
import { backupDatabase } from '../db/backup';

// `npm run backup -- FILE`: an encrypted pg_dump of the database at DATABASE_ADMIN_URL (see docs/operations.md).
const file = process.argv[2];
const config = loadConfig();
if (!file || !config.databaseAdminUrl || !config.backupEncryptionKey) {
  process.stderr.write(
    'Usage: npm run backup -- FILE\nNeeds DATABASE_ADMIN_URL and BACKUP_ENCRYPTION_KEY (32 bytes, hex or base64).\n',
  );
  process.exit(2);
}
try {
  await backupDatabase(config.databaseAdminUrl, file, config.backupEncryptionKey, config.pgTools);
  process.stdout.write(`Backup written to ${file}\n`);
} catch (error) {
  process.stderr.write(`Backup failed: ${(error as Error).message}\n`);
  process.exit(1);
}
