/**
 * The worker healthcheck (src/workers/worker-healthcheck.ts) against hostile metrics endpoints,
 * served by real HTTP servers on loopback: values that are not numbers, a task queue name that
 * forges a poller count, a redirect to another worker's metrics, a body that never ends and one
 * far larger than any real exposition. Only a worker that really polls is healthy, and the check
 * ends well inside Docker's 5 s timeout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkWorkerHealth, pollerCount } from '../../src/workers/worker-healthcheck';

const servers: http.Server[] = [];
afterAll(() =>
  servers.forEach((s) => {
    s.closeAllConnections();
    s.close();
  }),
);

function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)),
  );
}

it('a value that is not a finite number is not a poller count', () => {
  for (const v of ['+Inf', 'NaN', '-', '1e', '+', '.'])
    expect(pollerCount(`temporal_num_pollers{poller_type="workflow_task"} ${v}`) ?? 0).toBe(0);
  expect(pollerCount('temporal_num_pollers{poller_type="workflow_task"} 2 1700000000000')).toBe(2);
});

it('a label value with } and a number in it does not forge the count', () => {
  const text = 'temporal_num_pollers{task_queue="q} 7",poller_type="workflow_task"} 0';
  expect(pollerCount(text)).toBe(0);
  expect(pollerCount('temporal_num_pollers{task_queue="a\\"} 3"} 1')).toBe(1);
});

it('does not follow a redirect to another endpoint', async () => {
  const other = await serve((_req, res) => res.end('temporal_num_pollers{poller_type="workflow_task"} 5\n'));
  const url = await serve((_req, res) => res.writeHead(302, { location: other }).end());
  const h = await checkWorkerHealth(url, 2000);
  expect(h.ok).toBe(false);
});

it('a body that trickles forever: not healthy, within the timeout', async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200);
    res.write('temporal_num_pollers{poller_type="workflow_task"} 5\n');
    const t = setInterval(() => res.write('#'), 50);
    res.on('close', () => clearInterval(t));
  });
  const started = Date.now();
  const h = await checkWorkerHealth(url, 1000);
  expect(Date.now() - started).toBeLessThan(2000);
  expect(h.ok).toBe(false);
});

it('a body of hundreds of MB is not read to the end (the check shares the worker container memory)', async () => {
  let sent = 0;
  const chunk = Buffer.alloc(1024 * 1024, 0x23); // '#' comment bytes
  const url = await serve((_req, res) => {
    res.writeHead(200);
    const pump = () => {
      while (sent < 512 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (sent = Math.max(sent, 0)));
    pump();
  });
  const h = await checkWorkerHealth(url, 4000);
  expect(h.ok).toBe(false);
  expect(sent).toBeLessThan(64 * 1024 * 1024);
});
