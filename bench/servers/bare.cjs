'use strict';
// Bare Express: the baseline every other variant is compared to.
const express = require('express');
const { addRoutes, serve } = require('./common.cjs');

const app = express();
app.disable('x-powered-by');
addRoutes(app);
serve(app);
