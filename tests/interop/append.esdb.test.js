'use strict';
// The append suite (suites/append.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/append');
