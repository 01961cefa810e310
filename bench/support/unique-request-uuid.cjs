// autocannon worker hook: every webhook delivery gets its own X-Request-UUID (Bitbucket's delivery id).
const { randomUUID } = require('node:crypto');

module.exports = (req) => ({ ...req, headers: { ...req.headers, 'x-request-uuid': randomUUID() } });
