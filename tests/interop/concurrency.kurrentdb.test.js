'use strict';
// The concurrency suite (suites/concurrency.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/concurrency');
