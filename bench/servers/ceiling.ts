import Fastify from 'fastify';

// The ceiling: a bare Fastify route that answers 200, on this machine.
const app = Fastify({ logger: false });
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/webhooks/:key', async () => ({ received: true }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening on ${url} `);
