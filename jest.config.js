/** Three tiers, each its own jest project: see docs/contributing.md, "Tests". */
const tier = (name) => ({
  displayName: name,
  preset: "ts-jest",
  testEnvironment: "node",
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
});

module.exports = {
  projects: [tier("unit"), tier("engine"), tier("cluster")],
};
