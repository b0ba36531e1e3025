'use strict';
// The read suite (suites/read.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/read');
