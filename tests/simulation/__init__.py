"""A seeded year of woonoverlast cases driven through the API: `year.run`, `make simulate`."""
