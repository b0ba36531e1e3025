'use strict';
// The subscriptions suite (suites/subscriptions.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/subscriptions');
