'use strict';
// The lifecycle suite (suites/lifecycle.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/lifecycle');
