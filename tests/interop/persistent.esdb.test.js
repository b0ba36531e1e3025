'use strict';
// The persistent subscriptions suite (suites/persistent.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/persistent');
