'use strict';
// The subscriptions suite (suites/subscriptions.js) with kurrentdb; see README.md.
require('./clients').useClient('kurrentdb');
require('./suites/subscriptions');
