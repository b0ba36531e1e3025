'use strict';
// The concurrency suite (suites/concurrency.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/concurrency');
