// The floor for any relay process: stdin → child stdin and child stdout → stdout, bytes untouched.
// bench/run.js measures it to show what one extra process hop costs on this machine.
import { spawn } from 'node:child_process';
const child = spawn(process.execPath, [process.argv[2]], { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
process.stdin.on('end', () => child.kill());
