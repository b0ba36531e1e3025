'use strict';
// The read suite (suites/read.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/read');
