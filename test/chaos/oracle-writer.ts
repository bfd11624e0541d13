/**
 * A process that keeps the chaos oracle's write lock busy: transactions of ~4 ms (a busy loop
 * inside, so a SIGSTOP often lands in one) with short gaps, until it is killed.
 */
import { openOracle, write } from '../../chaos/oracle';

const db = openOracle(process.argv[2]);
const insert = db.prepare("INSERT INTO faults (kind, pod, pid, at) VALUES ('writer', 'w', ?, ?)");
async function loop(): Promise<void> {
  process.send?.('writing');
  for (;;) {
    await write(db, () => {
      const until = Date.now() + 4;
      while (Date.now() < until) insert.run(process.pid, Date.now());
    });
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
void loop();
