'use strict';
// express-winston access log through a winston JSON File transport.
const express = require('express');
const winston = require('winston');
const expressWinston = require('express-winston');
const { addRoutes, serve, logFile } = require('./common.cjs');

const logger = winston.createLogger({
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [new winston.transports.File({ filename: logFile('winston') })],
});
const app = express();
app.disable('x-powered-by');
app.use(expressWinston.logger({ winstonInstance: logger, meta: true, expressFormat: true }));
addRoutes(app);
serve(app, () => new Promise((resolve) => { logger.on('finish', resolve); logger.end(); }));
