'use strict';
// The users suite (suites/users.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/users');
