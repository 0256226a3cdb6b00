// Presence: in a direct message, each side sees the other online while the app is open, and
// away once they close it.

import { connState } from "../lib/wait.mjs";

const item = (page, name) => page.locator(`[data-testid="channel-item"][data-channel-name="${name}"]`);
const dot = (page, name, online) =>
  page.waitForSelector(`[data-testid="channel-item"][data-channel-name="${name}"] [data-online="${online}"]`, { state: "attached", timeout: 20_000 });

export default [
  {
    name: "a direct message shows the other person online, then away when they close the app",
    timeout: 120_000,
    fn: async t => {
      const server = await t.startServer();
      await server.addUser("alice", "alice-password", "Alice 王", "employee");
      await server.addUser("bob", "bob-password-1", "Bob 李", "employee");
      const a = await t.newPage();
      await t.login(a, "alice", "alice-password");
      await connState(a, "online");
      await a.getByTestId("new-channel").first().click();
      await a.getByTestId("new-dm").click();
      await a.locator('[data-testid="person"][data-username="bob"]').click();
      await a.getByTestId("channel-create").click();
      await item(a, "Bob 李").waitFor();
      await dot(a, "Bob 李", "false");

      const b = await t.newPage();
      await t.login(b, "bob", "bob-password-1");
      await connState(b, "online");
      await dot(b, "Alice 王", "true");
      await dot(a, "Bob 李", "true");

      await b.close({ runBeforeUnload: true });
      await dot(a, "Bob 李", "false");
    },
  },
];
