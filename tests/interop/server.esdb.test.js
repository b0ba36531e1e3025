'use strict';
// The server suite (suites/server.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/server');
