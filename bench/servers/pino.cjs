'use strict';
// pino-http access log to a file (pino's asynchronous destination, its fast recommended setup).
const express = require('express');
const pino = require('pino');
const pinoHttp = require('pino-http');
const { addRoutes, serve, logFile } = require('./common.cjs');

const dest = pino.destination({ dest: logFile('pino'), sync: false, minLength: 4096 });
const app = express();
app.disable('x-powered-by');
app.use(pinoHttp({ logger: pino(dest) }));
addRoutes(app);
serve(app, () => dest.flushSync());
