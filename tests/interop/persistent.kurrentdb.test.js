'use strict';
// The persistent subscriptions suite (suites/persistent.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/persistent');
