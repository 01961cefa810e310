import { loadConfig } from '../config/config';
import { restoreDatabase, RestoreRefused } from '../db/backup';
import { readLedger } from '../db/deletion-ledger';

// `npm run restore -- FILE`: restores an encrypted backup into the EMPTY database at DATABASE_ADMIN_URL, then
// re-applies the erasures and purges that LEDGER_SOURCE_URL's deletion ledger records and the backup lacks.
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const withoutLedger = args.includes('--without-ledger');
const config = loadConfig();
if (!file || !config.databaseAdminUrl || !config.backupEncryptionKey) {
  process.stderr.write(
    'Usage: npm run restore -- FILE [--without-ledger]\n' +
      'Needs DATABASE_ADMIN_URL (an empty database), BACKUP_ENCRYPTION_KEY and LEDGER_SOURCE_URL.\n',
  );
  process.exit(2);
}
if (!config.ledgerSourceUrl && !withoutLedger) {
  process.stderr.write(
    'Set LEDGER_SOURCE_URL to the database this restore replaces (its deletion ledger is re-applied), or pass\n' +
      '--without-ledger (a drill): erasures and purges made after the backup would come back otherwise.\n',
  );
  process.exit(2);
}
try {
  const ledger = config.ledgerSourceUrl ? await readLedger(config.ledgerSourceUrl) : [];
  const { reapplied } = await restoreDatabase(
    config.databaseAdminUrl,
    file,
    config.backupEncryptionKey,
    config.pgTools,
    ledger,
  );
  process.stdout.write(
    `Restored ${file}; re-applied ${reapplied.length} deletion(s) made after the backup` +
      `${config.ledgerSourceUrl ? '' : ' (no ledger source given)'}\n`,
  );
} catch (error) {
  const refused = error instanceof RestoreRefused;
  process.stderr.write(`Restore ${refused ? 'refused' : 'failed'}: ${(error as Error).message}\n`);
  process.exit(refused ? 3 : 1);
}
