'use strict';
// The categories suite (suites/categories.js) with esdb; see README.md.
require('./clients').useClient('esdb');
require('./suites/categories');
