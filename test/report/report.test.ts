import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rule } from '../../src/index.ts'
import { CHROMIUM_PATH, chromium as chromiumInstalled, describeWith } from '../support/services.ts'
import { setup } from '../support/setup.ts'
import { seed } from '../support/seed.ts'

/**
 * The report: trained on real sessions, written by $prefetch.report(), opened in headless Chromium
 * (Debian's, through playwright-core); the graph must have rendered as nodes and arrows, with the
 * timeline and the per-model table, and a screenshot is kept in test/artifacts/.
 */
const env = await setup()
const rows = await seed(env.bare)
const artifacts = join(import.meta.dirname, '..', 'artifacts')
mkdirSync(artifacts, { recursive: true })

const chromiumService = await chromiumInstalled()

describe('$prefetch.report()', () => {
  describeWith(chromiumService, 'in Chromium', () => {
    let browser: Browser
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
      })
    })
    afterAll(async () => {
      await browser?.close()
    })

    it('draws what was learned, over time and per model, in a page Chromium renders', async () => {
      const tagsOf = rule('Post.findUnique').then('Tag.findMany', ({ result }) => (result ? { where: { posts: { some: { id: result.id } } } } : null))
      let t = Date.parse('2026-01-01T00:00:00Z')
      const { prisma } = await env.client({ rules: [tagsOf], now: () => t })
      // Sessions: a user, then their posts, then one post (a pattern worth learning).
      for (let s = 0; s < 30; s++) {
        await prisma.$prefetch.session(`s${s}`, async () => {
          const id = s % 2 ? rows.alice.id : rows.bob.id
          const user = await prisma.user.findUnique({ where: { id }, select: { id: true, name: true } })
          const posts = await prisma.post.findMany({ where: { authorId: user!.id }, select: { id: true, title: true }, orderBy: { id: 'asc' } })
          await prisma.post.findUnique({ where: { id: posts[s % posts.length].id }, select: { id: true, title: true, views: true } })
        })
        await prisma.$prefetch.idle()
        t += 1500
      }
      const file = join(artifacts, 'report.html')
      const html = prisma.$prefetch.report({ file, title: 'Test report' })
      expect(html).toMatch(/^<!doctype html>/)
      // Self-contained: nothing is fetched.
      expect(html).not.toMatch(/<script|<link|src="http|url\(http/)

      const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } })
      await page.goto(`file://${file}`)
      expect(await page.title()).toBe('Test report')
      const nodes = await page.locator('#graph .node').count()
      const edges = await page.locator('#graph .edge').count()
      expect(nodes).toBeGreaterThanOrEqual(3)
      expect(edges).toBeGreaterThanOrEqual(2)
      // The rule is drawn too, dashed.
      expect(await page.locator('#graph .edge.rule').count()).toBe(1)
      // Rendered, not just present: the boxes have a size on screen.
      const box = await page.locator('#graph .node').first().boundingBox()
      expect(box!.width).toBeGreaterThan(40)
      expect(await page.locator('#transitions').innerText()).toMatch(/where\.authorId = .*User\.findUnique/)
      const points = await page.locator('#series-hitRate').getAttribute('points')
      expect(points!.trim().split(' ').length).toBeGreaterThanOrEqual(10)
      expect(await page.locator('#models').innerText()).toMatch(/Post\s+\d+/)
      await page.screenshot({ path: join(artifacts, 'report.png'), fullPage: true })
      await page.close()
    })
  })

  it('says so when nothing is learned yet, and rejects a bad file', async () => {
    const { prisma } = await env.client()
    const html = prisma.$prefetch.report()
    expect(html).toMatch(/id="graph-empty"/)
    expect(html).toMatch(/id="timeline-empty"/)
    expect(() => prisma.$prefetch.report({ file: 3 as never })).toThrow(/report\(\) file must be a path: 3/)
  })
})
