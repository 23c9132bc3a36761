/**
 * Workloads generated in memory, with no database: each session is a list of reads (model,
 * operation, arguments and the result the page got), as a recording of bench/accuracy.ts would
 * give. They are not tuned to the learner: they stand for sites the benchmark's TPC-W and RUBiS
 * do not cover, so a change that fits those two but not the classes of behaviour behind them
 * shows here. Also used by test/strategies/workloads.test.ts.
 *
 *   news  sections of stories (the front page is section 1), a story with its author and its
 *         comments, a commenter's page; after a story, the same section again or the front page.
 *   blog  an N+1 blog: the home page lists posts and looks up each post's author one by one, then
 *         counts the comments of the posts it listed; a post with its comments, each comment's
 *         author looked up one by one, then more posts by the post's author.
 */
import { Rng } from './random.ts'

export type SyntheticName = 'news' | 'blog'
export const SYNTHETIC_WORKLOADS: readonly SyntheticName[] = ['news', 'blog']

/** One read of a generated session. */
export interface SyntheticRead {
  model: string
  operation: string
  args: Record<string, unknown>
  result: unknown
  /** Index of the page of the session that made it. */
  page: number
}

export interface SyntheticSession {
  index: number
  pages: string[]
  reads: SyntheticRead[]
}

const SECTIONS = 8
const STORIES = 600
const USERS = 300
const PAGE_ROWS = 10

/** The site's data, the same for every session of a seed. */
interface Data {
  stories: { id: number; sectionId: number; authorId: number; title: string }[]
  comments: Map<number, { id: number; storyId: number; authorId: number }[]>
  users: { id: number; name: string }[]
}

function dataOf(seed: number): Data {
  const rng = new Rng(seed * 7919 + 17)
  const users = Array.from({ length: USERS }, (_, i) => ({ id: i + 1, name: `user ${i + 1}` }))
  const stories = Array.from({ length: STORIES }, (_, i) => ({
    id: i + 1,
    // Section 1 is the front page: every fourth story is on it.
    sectionId: i % 4 === 0 ? 1 : rng.range(2, SECTIONS),
    authorId: rng.range(1, USERS),
    title: `story ${i + 1}`,
  }))
  const comments = new Map<number, { id: number; storyId: number; authorId: number }[]>()
  let id = 1
  for (const story of stories) {
    comments.set(
      story.id,
      Array.from({ length: rng.int(7) }, () => ({ id: id++, storyId: story.id, authorId: rng.range(1, USERS) })),
    )
  }
  return { stories, comments, users }
}

/** Session `index` of workload `name`, its pages drawn from a generator seeded by both. */
export function syntheticSession(name: SyntheticName, index: number, seed: number, data = dataFor(seed)): SyntheticSession {
  const rng = new Rng(seed * 1_000_003 + index * 31 + (name === 'news' ? 1 : 2))
  const reads: SyntheticRead[] = []
  const pages: string[] = []
  const length = 3 + rng.geometric(6)
  const session = { page: 0, read: (model: string, operation: string, args: Record<string, unknown>, result: unknown) => reads.push({ model, operation, args, result, page: session.page }) }
  const play = name === 'news' ? newsSite(data, rng, session) : blogSite(data, rng, session)
  for (let p = 0; p < length; p++) {
    session.page = p
    pages.push(play())
  }
  return { index, pages, reads }
}

const cache = new Map<number, Data>()
function dataFor(seed: number): Data {
  let data = cache.get(seed)
  if (data === undefined) cache.set(seed, (data = dataOf(seed)))
  return data
}

type Reader = { read(model: string, operation: string, args: Record<string, unknown>, result: unknown): void }

/** Picks a row of a list as readers do: the first rows more often. */
function pickRow<T>(rng: Rng, rows: readonly T[]): T {
  return rng.chance(0.4) ? rows[0] : rows[Math.min(rows.length - 1, rng.geometric(2))]
}

function newsSite(data: Data, rng: Rng, db: Reader): () => string {
  let section = 1
  let list: Data['stories'] = []
  let commentsShown: { authorId: number }[] = []
  let next = 'section'
  const storiesOf = (where: (s: Data['stories'][number]) => boolean) =>
    data.stories
      .filter(where)
      .slice(-PAGE_ROWS)
      .reverse()
  return () => {
    const page = next
    if (page === 'section') {
      db.read('Section', 'findUnique', { where: { id: section } }, { id: section, name: `section ${section}` })
      list = storiesOf((s) => s.sectionId === section)
      db.read('Story', 'findMany', { where: { sectionId: section }, orderBy: { id: 'desc' }, take: PAGE_ROWS }, list.map((s) => ({ ...s })))
      next = rng.chance(0.85) ? 'story' : 'section'
      if (next === 'section') section = rng.range(1, SECTIONS)
    } else if (page === 'story') {
      const story = pickRow(rng, list)
      db.read('Story', 'findUnique', { where: { id: story.id } }, { ...story })
      // (a) A user looked up by id: here the story's author, on the user page a commenter.
      db.read('User', 'findUnique', { where: { id: story.authorId } }, { ...data.users[story.authorId - 1] })
      const comments = data.comments.get(story.id)!
      db.read('Comment', 'findMany', { where: { storyId: story.id }, orderBy: { id: 'asc' } }, comments.map((c) => ({ ...c })))
      commentsShown = comments
      // (b) The same section again most of the time, else the front page: no read says which.
      const roll = rng.float()
      if (roll < 0.25 && comments.length > 0) next = 'user'
      else {
        next = 'section'
        section = roll < 0.7 ? story.sectionId : 1
      }
    } else {
      const { authorId } = pickRow(rng, commentsShown)
      db.read('User', 'findUnique', { where: { id: authorId } }, { ...data.users[authorId - 1] })
      list = storiesOf((s) => s.authorId === authorId)
      db.read('Story', 'findMany', { where: { authorId }, orderBy: { id: 'desc' }, take: PAGE_ROWS }, list.map((s) => ({ ...s })))
      next = list.length > 0 && rng.chance(0.6) ? 'story' : 'section'
      section = 1
    }
    return page
  }
}

function blogSite(data: Data, rng: Rng, db: Reader): () => string {
  let next = 'home'
  let list: Data['stories'] = []
  let skip = 0
  const author = (id: number) => db.read('User', 'findUnique', { where: { id }, select: { id: true, name: true } }, { ...data.users[id - 1] })
  return () => {
    const page = next
    if (page === 'home') {
      const published = data.stories.slice().reverse()
      list = published.slice(skip, skip + PAGE_ROWS)
      db.read('Post', 'findMany', { where: { published: true }, orderBy: { id: 'desc' }, skip, take: PAGE_ROWS }, list.map((s) => ({ id: s.id, authorId: s.authorId, title: s.title })))
      // (d) N+1: each post's author, one lookup per row.
      for (const post of list) author(post.authorId)
      db.read('Comment', 'count', { where: { postId: { in: list.map((p) => p.id) } } }, list.length * 3)
      const roll = rng.float()
      if (roll < 0.2) {
        next = 'home'
        skip += PAGE_ROWS
      } else {
        next = 'post'
        skip = 0
      }
    } else {
      const post = pickRow(rng, list)
      db.read('Post', 'findUnique', { where: { id: post.id }, include: { tags: true } }, { id: post.id, authorId: post.authorId, title: post.title, tags: [] })
      const comments = data.comments.get(post.id)!
      db.read('Comment', 'findMany', { where: { postId: post.id }, orderBy: { id: 'asc' } }, comments.map((c) => ({ id: c.id, postId: c.storyId, authorId: c.authorId })))
      for (const comment of comments) author(comment.authorId)
      // After the loop, the post's author (two reads before the loop) still decides.
      list = data.stories.filter((s) => s.authorId === post.authorId).slice(0, 5)
      db.read('Post', 'findMany', { where: { authorId: post.authorId }, orderBy: { id: 'desc' }, take: 5 }, list.map((s) => ({ id: s.id, authorId: s.authorId, title: s.title })))
      next = list.length > 0 && rng.chance(0.5) ? 'post' : 'home'
    }
    return page
  }
}
