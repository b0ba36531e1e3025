'use strict';
// The errors suite (suites/errors.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/errors');
