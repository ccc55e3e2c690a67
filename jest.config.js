/** Three tiers, each its own jest project: see README.md "Tests". */
const tier = (name, extra = {}) => ({
  displayName: name,
  preset: "ts-jest",
  testEnvironment: "node",
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  ...extra,
});

module.exports = {
  projects: [
    tier("unit"),
    tier("engine", { testTimeout: 20 * 60 * 1000 }),
    tier("lab", { testTimeout: 60 * 60 * 1000 }),
  ],
};
