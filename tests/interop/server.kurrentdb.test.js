'use strict';
// The server suite (suites/server.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/server');
