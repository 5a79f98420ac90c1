import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../lib/core/errors.ts';
import type { ModuleManager } from '../../lib/core/modules.ts';
import { rejection } from '../helpers/errors.ts';
import { backends, createStack, registerAll } from '../helpers/stack.ts';

async function seedRegistry(modules: ModuleManager) {
  await registerAll(modules, [
    { name: 'database-connector', category: 'infrastructure', enabled: true },
    { name: 'email-ai', category: 'business', dependencies: ['database-connector'], enabled: true },
    { name: 'finance-ai', category: 'business', dependencies: ['database-connector'], enabled: true },
    { name: 'video-ai', category: 'media', enabled: false },
  ]);
}

describe.each(backends())('modules on $kind', (backend) => {
  it('refuses to disable a module that enabled modules require, naming them', async () => {
    const { orchestrator } = await createStack(backend);
    const { modules } = orchestrator;
    await seedRegistry(modules);
    const error = await rejection(modules.disable('database-connector'), ConflictError);
    expect(error.message).toBe('Required by email-ai, finance-ai');
    expect((await modules.status('database-connector')).enabled).toBe(true);

    await modules.disable('email-ai');
    await expect(modules.disable('database-connector')).rejects.toThrow('Required by finance-ai');
    await modules.disable('finance-ai');
    expect((await modules.disable('database-connector')).enabled).toBe(false);
  });

  it('refuses to enable a module whose dependency is disabled, naming the dependency', async () => {
    const { orchestrator } = await createStack(backend);
    const { modules } = orchestrator;
    await seedRegistry(modules);
    await modules.disable('email-ai');
    await modules.disable('finance-ai');
    await modules.disable('database-connector');
    await expect(modules.enable('email-ai')).rejects.toThrow(
      "cannot enable 'email-ai': dependency 'database-connector' is disabled",
    );
    expect((await modules.status('email-ai')).enabled).toBe(false);
    await modules.enable('database-connector');
    expect((await modules.enable('email-ai')).enabled).toBe(true);
    // Registering as enabled with a disabled dependency leaves nothing behind.
    await expect(
      modules.register({
        name: 'crypto-ai',
        category: 'business',
        dependencies: ['video-ai'],
        enabled: true,
      }),
    ).rejects.toThrow("dependency 'video-ai' is disabled");
    expect((await modules.list()).map((m) => m.name)).not.toContain('crypto-ai');
  });

  it('refuses unknown dependencies and cycles at registration', async () => {
    const { orchestrator } = await createStack(backend);
    const { modules } = orchestrator;
    await seedRegistry(modules);
    const unknown = await rejection(
      modules.register({ name: 'x', category: 'c', dependencies: ['email-ai', 'nope'] }),
      ValidationError,
    );
    expect(unknown.message).toBe("dependencies.1: unknown module 'nope'");

    await modules.register({ name: 'a', category: 'c' });
    await modules.register({ name: 'b', category: 'c', dependencies: ['a'] });
    await expect(modules.register({ name: 'a', category: 'c', dependencies: ['b'] })).rejects.toThrow(
      'dependencies: dependency cycle: a -> b -> a',
    );
    await expect(modules.register({ name: 'self', category: 'c', dependencies: ['self'] })).rejects.toThrow(
      /self -> self/,
    );
    expect((await modules.status('a')).dependencies).toEqual([]);
  });

  it('lists by category and enabled state, and summarises health', async () => {
    const { orchestrator } = await createStack(backend);
    const { modules } = orchestrator;
    await seedRegistry(modules);
    await modules.setHealth('finance-ai', 'degraded');
    expect((await modules.list({ category: 'business' })).map((m) => m.name)).toEqual([
      'email-ai',
      'finance-ai',
    ]);
    expect((await modules.list({ enabled: true })).map((m) => m.name)).toEqual([
      'database-connector',
      'email-ai',
      'finance-ai',
    ]);
    expect(Object.keys(await modules.byCategory()).sort()).toEqual(['business', 'infrastructure', 'media']);
    expect(await modules.healthSummary()).toEqual({
      totalModules: 4,
      enabled: 3,
      disabled: 1,
      healthy: 2,
      degraded: 1,
      unhealthy: 0,
    });
    expect((await modules.status('database-connector')).dependents).toEqual(['email-ai', 'finance-ai']);
    await expect(modules.status('ghost')).rejects.toThrow("module 'ghost' not found");
    await expect(modules.setHealth('email-ai', 'sick' as never)).rejects.toThrow(/^health: /);
  });

  it('never leaves an enabled module with a disabled dependency under concurrent enable/disable', async () => {
    const { orchestrator } = await createStack(backend);
    const { modules } = orchestrator;
    await modules.register({ name: 'base', category: 'infra', enabled: true });
    await modules.register({ name: 'mid', category: 'infra', dependencies: ['base'] });
    for (const name of ['app1', 'app2', 'app3'])
      await modules.register({ name, category: 'app', dependencies: ['mid'] });
    const names = ['base', 'mid', 'app1', 'app2', 'app3'];
    let refused = 0;
    for (let round = 0; round < 12; round++) {
      const operations = Array.from({ length: 20 }, (_, i) => {
        const name = names[(round * 7 + i * 3) % names.length] as string;
        const act = (round + i) % 2 === 0 ? modules.enable(name) : modules.disable(name);
        return act.catch((error: unknown) => {
          if (!(error instanceof ConflictError)) throw error;
          refused++;
        });
      });
      await Promise.all(operations);
      const all = await modules.list();
      const enabled = new Set(all.filter((m) => m.enabled).map((m) => m.name));
      for (const m of all.filter((x) => x.enabled)) {
        for (const dep of m.dependencies)
          expect(enabled.has(dep), `${m.name} enabled while ${dep} disabled`).toBe(true);
      }
      // Pins equal the number of enabled dependents once the dust settles.
      for (const m of all) {
        expect(m.pins, `pins of ${m.name}`).toBe(
          all.filter((d) => d.enabled && d.dependencies.includes(m.name)).length,
        );
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});
