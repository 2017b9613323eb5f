/**
 * A realistic long chat as an AI SDK 5 client resends it every turn: 100 questions and 100
 * answers, each answer with a reasoning part, a search tool call whose output carries the hits
 * Algolia returned (with `_highlightResult`, `_snippetResult` and a `queryID`), and its text.
 * The hits are modelled on a product index (name, description, brand, categories, price,
 * image, rating): about 1.4 KB of JSON each, 7 per search: about 1 MiB in all.
 */
export function longChat(turns = 100, hitsPerSearch = 7): Array<Record<string, unknown>> {
  const messages: Array<Record<string, unknown>> = []
  for (let turn = 0; turn < turns; turn++) {
    const query = `waterproof hiking boots size ${36 + (turn % 12)} under ${50 + turn} euros`
    messages.push({
      id: `u${turn}`,
      role: 'user',
      parts: [{ type: 'text', text: `I am looking for ${query}, preferably in brown leather.` }],
      metadata: { turnContext: { page: '/catalog/shoes' } }
    })
    const hits = Array.from({ length: hitsPerSearch }, (_, n) => hit(turn, n, query))
    messages.push({
      id: `a${turn}`,
      role: 'assistant',
      parts: [
        { type: 'step-start' },
        {
          type: 'reasoning',
          text: `The user wants ${query}. I will search the catalogue with a price filter and compare the top results by rating and price.`
        },
        {
          type: 'tool-algolia_search_index',
          toolCallId: `call_${turn}`,
          state: 'output-available',
          input: { query, filters: `price < ${50 + turn}` },
          output: {
            hits,
            nbHits: 120 + turn,
            page: 0,
            hitsPerPage: hitsPerSearch,
            queryID: `${turn.toString(16).padStart(4, '0')}a1b2c3d4e5f60718293a4b5c6d7e`
          }
        },
        { type: 'step-start' },
        {
          type: 'text',
          text: `Here are ${hitsPerSearch} options for ${query}. The first one is the best rated; the second is cheaper but less durable. All of them are available for delivery within three days, and two of them come in brown leather as you asked. Would you like me to compare any two of them in detail?`
        }
      ]
    })
  }
  return messages
}

function hit(turn: number, n: number, query: string) {
  const name = `Trail Master ${turn}-${n} Waterproof Leather Hiking Boot`
  const description =
    'Full-grain leather upper with a waterproof, breathable membrane, a cushioned midsole for long days on the trail and a grippy rubber outsole with deep lugs for mud and loose rock.'
  return {
    objectID: `sku-${turn}-${n}`,
    name,
    description,
    brand: 'Northwall',
    categories: ['Shoes', 'Outdoor', 'Hiking boots'],
    hierarchicalCategories: { lvl0: 'Shoes', lvl1: 'Shoes > Outdoor', lvl2: 'Shoes > Outdoor > Hiking boots' },
    price: 49 + n * 7,
    rating: 4 + (n % 2) * 0.5,
    image: `https://cdn.example.com/images/products/sku-${turn}-${n}/main-800x800.jpg`,
    url: `https://shop.example.com/p/sku-${turn}-${n}`,
    _highlightResult: {
      name: {
        value: name.replace('Hiking Boot', '<em>Hiking</em> <em>Boot</em>'),
        matchLevel: 'partial',
        fullyHighlighted: false,
        matchedWords: ['hiking', 'boots']
      },
      brand: { value: 'Northwall', matchLevel: 'none', matchedWords: [] },
      description: {
        value: description.replace('waterproof', '<em>waterproof</em>'),
        matchLevel: 'partial',
        fullyHighlighted: false,
        matchedWords: ['waterproof']
      }
    },
    _snippetResult: { description: { value: `… <em>waterproof</em>, breathable membrane … ${query.slice(0, 20)}`, matchLevel: 'partial' } }
  }
}
